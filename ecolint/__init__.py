"""ecolint: a static auditor for energy waste in LLM inference setups."""

__version__ = "0.1.0"
