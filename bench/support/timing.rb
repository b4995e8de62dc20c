# frozen_string_literal: true

# What the benchmarks time with: this process's CPU time, and the median of
# the rounds.
def cpu
  Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
end

def median(values)
  values.sort[values.size / 2]
end
