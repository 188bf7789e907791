"""The keyspace: databases of keys with lazy and active expiry."""
