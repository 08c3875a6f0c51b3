-- :checkhealth plumb
local M = {}

function M.check()
  local health = vim.health
  health.start("plumb")
  if vim.fn.has("nvim-0.11") == 1 then
    health.ok("Neovim " .. tostring(vim.version()) .. " (vim.lsp.config / vim.lsp.enable)")
  elseif vim.fn.has("nvim-0.10") == 1 then
    health.warn("Neovim " .. tostring(vim.version()) .. ": using the vim.lsp.start fallback; 0.11+ is recommended")
  else
    health.error("Neovim 0.10 or newer is required")
  end
  local plumb = require("plumb")
  local cmd = plumb.config.cmd or vim.g.plumb_cmd or { "plumb", "lsp" }
  local exe = cmd[1]
  if vim.fn.executable(exe) == 1 then
    local out = vim.fn.system({ exe, "--version" })
    if vim.v.shell_error == 0 then
      health.ok("server: " .. vim.trim(out) .. " (" .. vim.fn.exepath(exe) .. ")")
    else
      health.error("`" .. exe .. " --version` failed: " .. out)
    end
  else
    health.error("`" .. exe .. "` is not executable; install plumb or set cmd in require('plumb').setup()")
  end
  local clients = vim.lsp.get_clients({ name = "plumb" })
  if #clients > 0 then
    health.ok(#clients .. " plumb client(s) running")
  else
    health.info("no plumb client is running (open a Python file)")
  end
end

return M
