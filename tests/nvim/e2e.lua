-- Headless Neovim as a real LSP client of `plumb lsp`, through the plugin in editors/nvim.
-- Run by tests/all/nvim.rs:  nvim --headless --clean -l tests/nvim/e2e.lua
-- Env: PLUMB_BIN (the server binary), PLUMB_PLUGIN (editors/nvim), PLUMB_WORKDIR (a temp project).
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "helpers.lua")
local bin, dir = h.bin, h.dir
local fail, log, plumb_diagnostics = h.fail, h.log, h.plumb_diagnostics

require("plumb").setup({ cmd = { bin, "lsp" }, settings = { debounceMs = 20, timeoutMs = 1000 } })

vim.cmd("edit " .. dir .. "/stats.py")
local buf = vim.api.nvim_get_current_buf()
if vim.bo[buf].filetype ~= "python" then
  vim.bo[buf].filetype = "python"
end

-- 1. The buggy function gets a diagnostic with expected/actual and feedback text.
if not vim.wait(30000, function() return #plumb_diagnostics(buf) > 0 end, 20) then
  fail("no plumb diagnostics arrived; clients: " .. #vim.lsp.get_clients({ name = "plumb" }))
end
local d = plumb_diagnostics(buf)[1]
log("diagnostic: " .. d.message:gsub("\n.*", ""))
if not d.message:find("returned 3.5, expected 2.5", 1, true) then fail("unexpected message: " .. d.message) end
if not d.message:find("Expected:\n    2.5\nGot:\n    3.5", 1, true) then fail("no feedback text: " .. d.message) end
if d.lnum ~= 4 or d.col ~= 4 or d.severity ~= vim.diagnostic.severity.ERROR then
  fail(("wrong place or severity: %d:%d sev %d"):format(d.lnum, d.col, d.severity))
end

-- 2. A code action adds the example as a unit test.
local client = require("plumb").client(buf)
local raw = d.user_data and d.user_data.lsp
local params = {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = raw.range,
  context = { diagnostics = { raw } },
}
local responses = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", params, 10000)
local action
for _, r in pairs(responses or {}) do
  for _, a in ipairs(r.result or {}) do
    action = action or a
  end
end
if not action then fail("no code action") end
log("code action: " .. action.title)
vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
vim.cmd("silent! wall")
local test_file = dir .. "/tests/test_stats.py"
local f = io.open(test_file, "r")
if not f then fail("the code action did not create " .. test_file) end
local content = f:read("*a")
f:close()
if not content:find("assert median([4, 1, 3, 2]) == 2.5", 1, true) then fail("test file content: " .. content) end
log("test file written")

-- 3. Fixing the function clears the diagnostic.
vim.api.nvim_set_current_buf(buf)
local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
for i, line in ipairs(lines) do
  if line:find("s[m + 1]", 1, true) then
    vim.api.nvim_buf_set_lines(buf, i - 1, i, false, { (line:gsub("s%[m %+ 1%]", "s[m - 1]")) })
  end
end
if not vim.wait(30000, function() return #plumb_diagnostics(buf) == 0 end, 20) then
  fail("the diagnostic did not clear after the fix: " .. plumb_diagnostics(buf)[1].message)
end
log("fixed: diagnostics cleared")

-- 4. Hover and :checkhealth plumb.
local hover = vim.lsp.buf_request_sync(buf, "textDocument/hover",
  { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = 0, character = 5 } }, 10000)
local hover_text
for _, r in pairs(hover or {}) do
  hover_text = r.result and r.result.contents.value
end
if not hover_text or not hover_text:find("is **passing**", 1, true) then fail("hover: " .. tostring(hover_text)) end
vim.cmd("checkhealth plumb")
local health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
if not health:find("plumb client(s) running", 1, true) then fail("checkhealth: " .. health) end
log("checkhealth ok")
os.exit(0)
