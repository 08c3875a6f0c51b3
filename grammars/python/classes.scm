; Every class definition: a holder of docstring examples (doctest collects them as its own items).
(class_definition
  name: (identifier) @name
  body: (block) @body) @class
