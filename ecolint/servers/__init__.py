"""The servers: ``ecolint lsp`` (a language server, ecolint/servers/lsp.py) and ``ecolint mcp``
(a Model Context Protocol server, ecolint/servers/mcp.py). Thin layers over the engine, the fix
and ignore writers and the advisor: neither holds a rule, a resolution or a figure of its own.

Each imports its protocol library (pygls, mcp) at its top; the command line imports a server
module only when that command runs, so ``ecolint check`` never loads either library.
"""
