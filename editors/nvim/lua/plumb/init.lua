-- plumb for Neovim: runs the Python you are writing and shows, inline, where it is wrong.
--
--   require("plumb").setup({
--     cmd = { "plumb", "lsp" },          -- the server command (default: `plumb` on PATH)
--     settings = { debounceMs = 300, timeoutMs = 2000, memoryMb = 256, enable = true },
--   })
local M = {}

M.defaults = {
  cmd = nil, -- { "plumb", "lsp" }, or the value of vim.g.plumb_cmd
  filetypes = { "python" },
  root_markers = { "pyproject.toml", "setup.py", "setup.cfg", ".git" },
  settings = {},
}

M.config = vim.deepcopy(M.defaults)

local function server_config()
  local cmd = M.config.cmd or vim.g.plumb_cmd or { "plumb", "lsp" }
  return {
    name = "plumb",
    cmd = cmd,
    filetypes = M.config.filetypes,
    root_markers = M.config.root_markers,
    init_options = M.config.settings,
    settings = { plumb = M.config.settings },
  }
end

--- The running plumb client for a buffer, if any.
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ bufnr = bufnr or 0, name = "plumb" })
  return clients[1]
end

local function execute(command, args)
  local client = M.client()
  if not client then
    vim.notify("plumb: no plumb server attached to this buffer", vim.log.levels.WARN)
    return
  end
  client:request("workspace/executeCommand", { command = command, arguments = args or {} }, function(err, result)
    if err then
      vim.notify("plumb: " .. err.message, vim.log.levels.ERROR)
    elseif command == "plumb.status" then
      vim.notify(vim.inspect(result), vim.log.levels.INFO)
    end
  end, 0)
end

local function commands()
  vim.api.nvim_create_user_command("PlumbRecheck", function()
    execute("plumb.recheck", { vim.uri_from_bufnr(0) })
  end, { desc = "plumb: forget cached results and check this buffer again" })
  vim.api.nvim_create_user_command("PlumbStatus", function()
    execute("plumb.status")
  end, { desc = "plumb: show the server's status" })
  vim.api.nvim_create_user_command("PlumbRestart", function()
    for _, client in ipairs(vim.lsp.get_clients({ name = "plumb" })) do
      client:stop()
    end
    vim.defer_fn(function()
      vim.cmd("edit")
    end, 200)
  end, { desc = "plumb: restart the language server" })
end

function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  local config = server_config()
  if vim.lsp.config and vim.lsp.enable then
    -- Neovim 0.11+: declarative configuration.
    vim.lsp.config("plumb", config)
    vim.lsp.enable("plumb")
  else
    -- Older Neovim: start (or reuse) a client per Python buffer.
    vim.api.nvim_create_autocmd("FileType", {
      pattern = config.filetypes,
      group = vim.api.nvim_create_augroup("plumb", { clear = true }),
      callback = function(args)
        local root = vim.fs.root(args.buf, config.root_markers) or vim.fn.getcwd()
        vim.lsp.start(vim.tbl_extend("force", config, { root_dir = root }), { bufnr = args.buf })
      end,
    })
  end
  commands()
end

return M
