"""Speech corpora and manifests: the FSDD digit utterances and Myrtle/NeMo manifest files."""
