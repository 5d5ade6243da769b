"""`make demo`: the whole pipeline on a throwaway local cloud, with reuse of data and model."""
