; A function's docstring: a string that is the first statement of its body.
(function_definition
  body: (block
    .
    (expression_statement
      .
      (string) @docstring .)))
