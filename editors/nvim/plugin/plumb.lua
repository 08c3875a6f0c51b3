-- Nothing starts until require("plumb").setup() is called.
if vim.g.loaded_plumb then
  return
end
vim.g.loaded_plumb = true
