-- Headless Neovim on a package: relative imports resolve, an unsaved edit to an imported module
-- re-checks the module that imports it, and the project's own tests run (in the background before the
-- test file is opened), in both files. Run by tests/all/nvim.rs (PLUMB_WORKDIR: a copy of
-- tests/fixtures/project).
local h = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "helpers.lua")
local bin, dir = h.bin, h.dir
local fail, log, plumb_diagnostics = h.fail, h.log, h.plumb_diagnostics
local function find(buf, text)
  for _, d in ipairs(plumb_diagnostics(buf)) do
    if d.message:find(text, 1, true) then
      return d
    end
  end
end
local function open(path)
  vim.cmd("edit " .. path)
  local buf = vim.api.nvim_get_current_buf()
  if vim.bo[buf].filetype ~= "python" then
    vim.bo[buf].filetype = "python"
  end
  return buf
end

require("plumb").setup({ cmd = { bin, "lsp" }, settings = { debounceMs = 20, timeoutMs = 2000 } })

-- 1. The package module: its bug is found, its relative imports resolve.
local stats = open(dir .. "/src/shapes/stats.py")
if not vim.wait(60000, function() return find(stats, "buggy_mean([2, 4])") ~= nil end, 20) then
  local got = {}
  for _, d in ipairs(plumb_diagnostics(stats)) do table.insert(got, d.message) end
  fail("no diagnostic for buggy_mean; got: " .. table.concat(got, " | "))
end
for _, d in ipairs(plumb_diagnostics(stats)) do
  if d.message:find("uses `clamp`", 1, true) or d.message:find("uses `util`", 1, true) then
    fail("an import of the package did not resolve: " .. d.message)
  end
  if d.severity == vim.diagnostic.severity.ERROR and not d.message:find("buggy_mean", 1, true) then
    fail("a false alarm: " .. d.message)
  end
end
if not find(stats, "compiled extension") then fail("the compiled extension is not named") end
log("package checked: 1 error (buggy_mean), imports resolved")
-- The project's test files run in the background, unopened: stats.py hears of the failing test.
if not vim.wait(90000, function() return find(stats, "`test_buggy_mean`") ~= nil end, 20) then
  fail("the project's tests did not run in the background")
end
log("background tests: " .. find(stats, "`test_buggy_mean`").message)

-- 2. An unsaved edit to util.py (imported by stats.py) makes stats.py's example fail...
local util = open(dir .. "/src/shapes/util.py")
local original = vim.api.nvim_buf_get_lines(util, 0, -1, false)
local last = #original
vim.api.nvim_buf_set_lines(util, last - 1, last, false, { "    raise ValueError('clamp is broken')" })
if not vim.wait(60000, function() return find(stats, "mean_clamped([1, 5, 10], 0, 4)") ~= nil end, 20) then
  fail("stats.py was not checked again after an edit to util.py")
end
local d = find(stats, "mean_clamped([1, 5, 10], 0, 4)")
if not d.message:find("ValueError", 1, true) then fail("unexpected message: " .. d.message) end
log("dependent re-checked: " .. d.message:gsub("\n.*", ""))

-- 3. ... and undoing it clears that diagnostic again.
vim.api.nvim_buf_set_lines(util, 0, -1, false, original)
if not vim.wait(60000, function() return find(stats, "mean_clamped([1, 5, 10], 0, 4)") == nil end, 20) then
  fail("the diagnostic did not clear after the undo")
end
log("undo: cleared")

-- 4. The project's own test file: pytest runs it in the sandbox; the failing test is an error on
-- the test, and the function it ran gets a hint in its own file.
local tests = open(dir .. "/tests/test_stats.py")
if not vim.wait(90000, function() return find(tests, "`test_buggy_mean` failed: assert 2.0 == 3.0") ~= nil end, 20) then
  local got = {}
  for _, x in ipairs(plumb_diagnostics(tests)) do table.insert(got, x.message) end
  fail("no diagnostic for the failing test; got: " .. table.concat(got, " | "))
end
local failed = find(tests, "`test_buggy_mean` failed")
if failed.severity ~= vim.diagnostic.severity.ERROR then fail("the failing test is not an error") end
for _, x in ipairs(plumb_diagnostics(tests)) do
  if x.severity == vim.diagnostic.severity.ERROR and x.message ~= failed.message then fail("a false alarm: " .. x.message) end
end
if not vim.wait(60000, function() return find(stats, "ran this function and failed") ~= nil end, 20) then
  fail("stats.py did not hear which test ran buggy_mean")
end
log("test file: 1 failing test; stats.py: " .. find(stats, "ran this function and failed").message)

-- 5. Fixing the function in its unsaved buffer re-runs the test file, and the failure clears in
-- both files.
vim.api.nvim_set_current_buf(stats)
local lines = vim.api.nvim_buf_get_lines(stats, 0, -1, false)
for i, line in ipairs(lines) do
  if line:find("(len(xs) + 1)", 1, true) then
    vim.api.nvim_buf_set_lines(stats, i - 1, i, false, { (line:gsub("%(len%(xs%) %+ 1%)", "len(xs)")) })
  end
end
if not vim.wait(90000, function() return find(tests, "`test_buggy_mean` failed") == nil end, 20) then
  fail("the test file was not run again after the fix in stats.py")
end
if not vim.wait(60000, function() return find(stats, "ran this function and failed") == nil end, 20) then
  fail("stats.py still says a test failed")
end
log("fix in the module: the test passes, both files clear")
os.exit(0)
