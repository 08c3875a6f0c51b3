; A function's docstring: a string that is the first statement of its body.
(function_definition
  body: (block
    .
    (expression_statement
      .
      (string) @docstring .)))

; A class's docstring: its examples are doctest items too (they exercise the class).
(class_definition
  body: (block
    .
    (expression_statement
      .
      (string) @docstring .)))
