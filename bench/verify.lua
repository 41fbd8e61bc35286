-- The peer comparison: one GET of the verify path, with the bearer header (peers other than the sandbox ignore it).
dofile("report.lua")

wrk.method = "GET"
wrk.path = "/api/v1/connect/patients/verify/CM-HID-7KQ9-MP42-X8D1"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")
