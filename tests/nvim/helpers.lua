-- Shared by the headless Neovim scripts (loaded with dofile): the plugin on the runtimepath and
-- small helpers. Env: PLUMB_BIN (the server binary), PLUMB_PLUGIN (editors/nvim), PLUMB_WORKDIR.
vim.g.loaded_python3_provider = 0
local M = {
  bin = os.getenv("PLUMB_BIN"),
  plugin = os.getenv("PLUMB_PLUGIN"),
  dir = os.getenv("PLUMB_WORKDIR"),
}
vim.opt.runtimepath:prepend(M.plugin)

function M.fail(msg)
  io.stderr:write("FAIL: " .. msg .. "\n")
  os.exit(1)
end

function M.log(msg)
  io.stdout:write(msg .. "\n")
end

-- The diagnostics plumb published for a buffer.
function M.plumb_diagnostics(buf)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == "plumb" then
      table.insert(out, d)
    end
  end
  return out
end

return M
