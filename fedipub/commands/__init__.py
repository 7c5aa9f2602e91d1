"""The subcommands of `fedipub`, grouped by what they act on."""
