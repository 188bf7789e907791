"""Command families: one module each, every command declared once next to its handler."""
