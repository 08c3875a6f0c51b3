; Every function and method definition (async ones too: tree-sitter-python marks them with an
; `async` keyword child of the same node). The whole node is @function.
(function_definition
  name: (identifier) @name
  parameters: (parameters) @parameters
  body: (block) @body) @function
