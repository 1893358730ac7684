"""Launchers as data: argv + env (with a Location per token) -> Setup, for every launcher.

Layers, bottom up; nothing imports upward:

- ``vocab``: tokens, env values, locations, the precision words, value parsers, the fact
  builder, the flag-row and launcher declarations, the generic interpreter;
- one module per launcher (``vllm``, ``tgi``, ``sglang``, ``llamacpp``, ``ollama``): what
  identifies it and its table of flag rows (docs/launchers.md: adding a flag is one row);
- ``registry``: the launchers, and the tables derived from them (prefilter triggers, YAML
  words, model flags);
- ``prepare``: commands that only download or convert a model (never a setup);
- ``detect``: wrappers, detection, container images, and ``interpret`` — the entry point of
  the readers of each file kind (shell, Dockerfile, YAML), which only turn their text into
  ``Tok`` lists and ``EnvVal`` maps.
"""
