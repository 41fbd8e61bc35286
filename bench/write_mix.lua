-- The write mix: rotates through resolve-create (unique demographics every time), consent grant and
-- both record pushes (a unique Idempotency-Key and external id every time). BENCH_TOKEN is an
-- opeshisos_production bearer token. Every thread gets its own id so names and keys never repeat.
dofile("report.lua")

local token = os.getenv("BENCH_TOKEN")
local run = os.getenv("BENCH_RUN") or "0"
local counter = 0
local thread_id = 0
local letters = "abcdefghijklmnopqrstuvwxyz"
local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("thread_id", threads)
end

function init(args)
   thread_id = tonumber(wrk.thread:get("thread_id")) or 0
end

-- A number written in letters (names must stay names).
local function word(n)
   local s = ""
   repeat
      local d = n % 26
      s = string.sub(letters, d + 1, d + 1) .. s
      n = (n - d) / 26
   until n == 0
   return s
end

local function headers(key)
   local h = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
   if key then h["Idempotency-Key"] = key end
   return h
end

function request()
   counter = counter + 1
   local unique = run .. "-" .. thread_id .. "-" .. counter
   local kind = counter % 4
   if kind == 1 then
      local body = string.format('{"first_name": "Bench%s", "last_name": "Load%s", "date_of_birth": "1985-03-14", ' ..
         '"country_code": "CM", "sex": "female", "purpose": "load_test"}', word(counter), word(thread_id * 1000 + tonumber(run)))
      return wrk.format("POST", "/api/v1/connect/patients/resolve", headers(), body)
   elseif kind == 2 then
      return wrk.format("POST", "/api/v1/connect/patient/OPC-2024-XK7T9/consent/grant", headers(),
         '{"consent_type": "full_record"}')
   elseif kind == 3 then
      local body = string.format('{"health_id": "OPC-2024-DEMO1", "external_encounter_id": "ENC-%s", ' ..
         '"encounter_type": "outpatient", "occurred_at": "2026-11-20T08:30:00Z", "chief_complaint": "Fever", ' ..
         '"source_system": "bench", "diagnoses": [{"code_system": "ICD-10", "code": "B54", "display": "Malaria"}]}', unique)
      return wrk.format("POST", "/api/v1/connect/records/encounters", headers("enc-" .. unique), body)
   else
      local body = string.format('{"health_id": "OPC-2024-DEMO1", "external_lab_order_id": "LAB-%s", ' ..
         '"test_name": "Hemoglobin", "loinc_code": "718-7", "result_value": 10.9, "unit": "g/dL", ' ..
         '"occurred_at": "2026-11-20T10:00:00Z", "source_system": "bench"}', unique)
      return wrk.format("POST", "/api/v1/connect/records/lab-results", headers("lab-" .. unique), body)
   end
end
