"""Blob storage of the data account: run results out, inbound blob sources in (Azure Blob
storage with the app's managed identity in Azure, Azurite locally).

    blob.py         the BlobStore contract, BlobRef, blob names from path templates,
                    open_blob_store(BlobSettings): the configured backend
    azure_blob.py   the Azure backend (azure-storage-blob), streamed block uploads
    memory.py       an in-process backend, for unit tests only

Nothing here imports the Azure SDK at module import (cold start is measured).
"""
