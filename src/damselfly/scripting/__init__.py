"""Lua scripting: the lupa runtime, sandbox, script cache and the libraries Redis bundles."""
