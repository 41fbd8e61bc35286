-- The hello-world reference: GET / only.
dofile("report.lua")
