"""The commands: accept (the acceptance run) and repeat (several runs compared)."""
