-- The read mix of read_mix.lua spread over many tenants: request n goes to tenant n mod T with that
-- tenant's own token (tokens are tenant-bound). BENCH_TENANTS names a file of "tenant token" lines.
dofile("report.lua")

local basic = "Basic " .. os.getenv("BENCH_BASIC")
local facility = "00000000-0000-0000-0000-100000000001"
local paths = {
   "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1",
   "/api/v1/connect/patient/search?health_id=OPC-2024-XK7T9",
   "/api/v1/connect/patient/OPC-2024-XK7T9/consent",
   "/api/v1/connect/patient/OPC-2024-DEMO1/records?type=all",
   "/api/v1/connect/inventory/pharmacy/" .. facility,
   "/api/v1/connect/inventory/blood/" .. facility,
   "/api/v1/patient/search?term=Smith",
   "/api/v1/patient/search?term=1234567890",
}
local requests = {}  -- requests[t][p]: tenant t, path p
for line in io.lines(os.getenv("BENCH_TENANTS")) do
   local tenant, token = line:match("^(%S+) (%S+)$")
   local rows = {}
   for p, path in ipairs(paths) do
      local auth = path:find("^/api/v1/patient/") and basic or ("Bearer " .. token)
      rows[p] = wrk.format("GET", path, {["Authorization"] = auth, ["X-Sandbox-Tenant"] = tenant})
   end
   requests[#requests + 1] = rows
end
local n = 0

function request()
   local t = n % #requests + 1
   local p = math.floor(n / #requests) % #paths + 1
   n = n + 1
   return requests[t][p]
end
