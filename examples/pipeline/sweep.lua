-- prepare -> one train per learning rate (a sweep) -> evaluate.
-- `trackit pipeline sweep.lua`: SLURM holds each step until the ones it waits for succeed.
local steps = { { name = "prepare", sbatch = { "prepare.sh" } } }
local trains = {}
for _, lr in ipairs({ "0.1", "0.03", "0.01" }) do
  local name = "train-lr" .. lr
  trains[#trains + 1] = name
  steps[#steps + 1] = {
    name = name,
    sbatch = { "--job-name=" .. name, "train.sh", lr },
    after = { "prepare" },
    results = "results-" .. lr .. ".json",
    metrics = { "loss" },
  }
end
steps[#steps + 1] = { name = "evaluate", sbatch = { "evaluate.sh" }, after = trains, results = "best.json" }
return { name = "lr-sweep", steps = steps }
