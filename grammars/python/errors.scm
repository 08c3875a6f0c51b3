; Syntax errors: tree-sitter's error-recovery nodes.
(ERROR) @error
(MISSING) @missing
