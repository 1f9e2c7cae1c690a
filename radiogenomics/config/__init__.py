"""The workflow's configuration: the schema check, the settings every rule file reads, the survival block's settings
and the pre-flight check of every input.
"""

__all__ = ["preflight", "schema", "settings", "survival"]
