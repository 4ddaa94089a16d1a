# Placeholder until the search index lands in this same change.
def index_object(instance) -> None:
    return None


def unindex_object(instance) -> None:
    return None
