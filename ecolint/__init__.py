"""ecolint: a static auditor for energy waste in LLM inference setups."""

__version__ = "0.2.0"
