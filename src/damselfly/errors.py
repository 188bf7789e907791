"""Every error reply text the server sends, prefix included.

Clients (redis-py above all) map the prefix and often the exact text to exception classes, and
test suites match on them, so each text is written once here and matches Redis 7 byte for byte.
Handlers raise `CommandError(TEXT)`; dispatch turns it into an error reply.
"""

from __future__ import annotations


def c_string(data: bytes, limit: int | None = None) -> str:
    """An argument as Redis prints it with %s (or %.Ns): up to its first NUL byte, raw bytes
    kept (surrogateescape, which the encoder writes back unchanged)."""
    text = data.split(b"\x00", 1)[0]
    if limit is not None:
        text = text[:limit]
    return text.decode("utf-8", "surrogateescape")


class CommandError(Exception):
    """Raised by a handler: the message is the whole error line without the leading '-'."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProtocolError(Exception):
    """Malformed request bytes: the reply is `-ERR Protocol error: ...` and the connection closes."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.message = "ERR Protocol error: " + detail


SYNTAX = "ERR syntax error"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
INCR_FLOAT_NAN = "ERR increment would produce NaN or Infinity"
NO_SUCH_KEY = "ERR no such key"
INVALID_EXPIRE = "ERR invalid expire time in '{}' command"
OUT_OF_RANGE = "ERR {} is out of range"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
OFFSET_OUT_OF_RANGE = "ERR offset is out of range"
DB_INDEX_OUT_OF_RANGE = "ERR DB index is out of range"
SAME_OBJECT = "ERR source and destination objects are the same"
INVALID_CURSOR = "ERR invalid cursor"
WRONG_ARGS = "ERR wrong number of arguments for '{}' command"
UNKNOWN_COMMAND = "ERR unknown command '{}', with args beginning with: {}"
UNKNOWN_SUBCOMMAND = "ERR unknown subcommand '{}'. Try {} HELP."
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
AUTH_NOT_CONFIGURED = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
NOPROTO = "NOPROTO unsupported protocol version"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
DECREMENT_OVERFLOW = "ERR decrement would overflow"
LCS_NOT_STRINGS = "ERR The specified keys must contain string values"
LCS_IDX_AND_LEN = "ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_LONG = "ERR String too long for LCS"
LCS_TABLE_TOO_BIG = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
EXPIRE_NX_CONFLICT = "ERR NX and XX, GT or LT options at the same time are not compatible"
EXPIRE_GT_LT_CONFLICT = "ERR GT and LT options at the same time are not compatible"
UNSUPPORTED_OPTION = "ERR Unsupported option {}"
INT_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"
INVALID_FIRST_DB_INDEX = "ERR invalid first DB index"
INVALID_SECOND_DB_INDEX = "ERR invalid second DB index"
LFU_NOT_SELECTED = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
    "that when switching between policies at runtime LRU and LFU data will take some time to "
    "adjust."
)
LFU_SELECTED = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)
# Connection family (PING ... HELLO, CLIENT).
INT_OUT_OF_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"
HELLO_PROTOVER_NOT_INT = "ERR Protocol version is not an integer or out of range"
HELLO_BAD_OPTION = "ERR Syntax error in HELLO option '{}'"
HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
    "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
    "protocol version at the same time"
)
CLIENT_NAME_INVALID = "ERR Client names cannot contain spaces, newlines or special characters."
CLIENT_ATTR_INVALID = "ERR {} cannot contain spaces, newlines or special characters."
CLIENT_SETINFO_BAD_ATTR = "ERR Unrecognized option '{}'"
SUBCOMMAND_SYNTAX = "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP."
NO_SUCH_CLIENT = "ERR No such client"
INVALID_CLIENT_ID = "ERR Invalid client ID"
CLIENT_ID_NOT_POSITIVE = "ERR client-id should be greater than 0"
UNKNOWN_CLIENT_TYPE = "ERR Unknown client type '{}'"
NO_SUCH_USER = "ERR No such user '{}'"
TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"
PAUSE_BAD_MODE = "ERR CLIENT PAUSE mode must be WRITE or ALL"
UNBLOCK_BAD_REASON = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
CACHING_WITHOUT_TRACKING = (
    "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
    "OPTOUT mode enabled"
)
TRACKING_ONE_REDIRECT = "ERR A client can only redirect to a single other client"
TRACKING_NO_REDIRECT_CLIENT = "ERR The client ID you want redirect to does not exist"
TRACKING_PREFIX_NEEDS_BCAST = "ERR PREFIX option requires BCAST mode to be enabled"
TRACKING_BCAST_OPTIN = "ERR OPTIN and OPTOUT are not compatible with BCAST"
TRACKING_OPTIN_OPTOUT = "ERR You can't specify both OPTIN mode and OPTOUT mode"
TRACKING_UNSUPPORTED = "ERR CLIENT TRACKING ON is not supported by damselfly"
GETKEYS_INVALID_COMMAND = "ERR Invalid command specified"
GETKEYS_INVALID_NUMBER_OF_ARGS = "ERR Invalid number of arguments specified for command"
GETKEYS_NO_KEY_ARGUMENTS = "ERR The command has no key arguments"
GETKEYS_INVALID_ARGUMENTS = "ERR Invalid arguments specified for command"
# Server commands (commands/server.py): CONFIG, DEBUG, SLOWLOG, LATENCY, SHUTDOWN.
CONFIG_SET_UNKNOWN = "ERR Unknown option or number of arguments for CONFIG SET - '{}'"
CONFIG_SET_FAILED = "ERR CONFIG SET failed (possibly related to argument '{}') - {}"
DEBUG_NOT_ALLOWED = (
    'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you '
    "can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server."
)
DEBUG_NOT_POSITIVE = "ERR value is out of range, must be positive"
DEBUG_RESP2_UNSUPPORTED = "ERR RESP2 is not supported by this command"
DEBUG_PROTOCOL_TYPE = (
    "ERR Wrong protocol type name. Please use one of the following: "
    "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
)
DEBUG_QUICKLIST_THRESHOLD = "ERR argument must be a memory value bigger than 1 and smaller than 4gb"
DEBUG_RELOAD_OPTIONS = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
SLOWLOG_COUNT = "ERR count should be greater than or equal to -1"
LATENCY_NO_SAMPLES = "ERR No samples available for event '{}'"
SHUTDOWN_NOT_IN_PROGRESS = "ERR No shutdown in progress."
SHUTDOWN_FAILED = "ERR Errors trying to SHUTDOWN. Check logs."
PUBSUB_CONTEXT = (
    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
    "allowed in this context"
)
# Lock-oriented string commands of Redis 8.4 (SET IF*, DELEX, DIGEST) and Valkey 9 (DELIFEQ).
DIGEST_LENGTH = "ERR must be exactly 16 hexadecimal characters"
DELEX_NOT_STRING = "ERR Key should be of string type if conditions are specified"
DELEX_BAD_CONDITION = "ERR Invalid condition. Use IFEQ, IFNE, IFDEQ, or IFDNE"
# Transactions (MULTI/EXEC/DISCARD/WATCH).
MULTI_NESTED = "ERR MULTI calls can not be nested"
EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI"
DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI"
WATCH_INSIDE_MULTI = "ERR WATCH inside MULTI is not allowed"
EXECABORT = "EXECABORT Transaction discarded because of previous errors."
NOT_ALLOWED_IN_MULTI = "ERR Command not allowed inside a transaction"
EXECABORT_BECAUSE = "EXECABORT Transaction discarded because of: {}"
