"""Deployment platforms whose own YAML says what runs, with which arguments, on which GPU.

Each module reads one platform's files (recognised by content, never by name alone) into the
argv + env the launcher interpreter reads (ecolint/extract/launchers), and stamps the GPU the
file states on the setups it gives. They are called by the YAML reader (manifests.py), whose
parsed documents (``Doc``: nodes with their locations) they share.

- ``kubeai``: KubeAI ``Model`` resources and the KubeAI models chart's ``catalog:``;
- ``skypilot``: SkyPilot task and service YAML;
- ``dstack``: dstack ``service`` / ``task`` / ``dev-environment`` configurations.
"""
