"""Social graph (follow/block/mute), posts, reposts, likes, bookmarks, timelines."""
