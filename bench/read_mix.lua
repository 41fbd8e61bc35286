-- The read mix: rotates through verify, patient search, consent status, records, both inventories and
-- OpenEyes search (HTTP Basic). BENCH_TOKEN is a demo_dev_sandbox bearer token (all its read scopes).
dofile("report.lua")

local token = os.getenv("BENCH_TOKEN")
local bearer = {["Authorization"] = "Bearer " .. token}
local basic = {["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")}
local facility = "00000000-0000-0000-0000-100000000001"
local mix = {
   wrk.format("GET", "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1", bearer),
   wrk.format("GET", "/api/v1/connect/patient/search?health_id=OPC-2024-XK7T9", bearer),
   wrk.format("GET", "/api/v1/connect/patient/OPC-2024-XK7T9/consent", bearer),
   wrk.format("GET", "/api/v1/connect/patient/OPC-2024-DEMO1/records?type=all", bearer),
   wrk.format("GET", "/api/v1/connect/inventory/pharmacy/" .. facility, bearer),
   wrk.format("GET", "/api/v1/connect/inventory/blood/" .. facility, bearer),
   wrk.format("GET", "/api/v1/patient/search?term=Smith", basic),
   wrk.format("GET", "/api/v1/patient/search?term=1234567890", basic),
}
local i = 0

function request()
   i = i % #mix + 1
   return mix[i]
end
