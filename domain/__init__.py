"""The alert's vocabulary, shared by every other package and importing none of them.

`taxonomy` (the ids of taxonomy.yml), `fields` (the field registry: one entry per field of
the alert), `parse` (the parse record), `text` (folding and word helpers), `dates`,
`turns` (a conflict between two workers' turns).
"""
