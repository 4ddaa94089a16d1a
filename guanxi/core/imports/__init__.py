"""The import/export engine: resources (registry), parsing, services, the background task,
pages and API. See resources.py for how an app offers a model to imports and exports."""
