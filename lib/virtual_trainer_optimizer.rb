# frozen_string_literal: true

require_relative "virtual_trainer_optimizer/version"
require_relative "virtual_trainer_optimizer/errors"
require_relative "virtual_trainer_optimizer/native"
require_relative "virtual_trainer_optimizer/sql"

# Finds N+1 queries, slow SQL, missing and redundant indexes, and data-retention
# gaps in Rails applications. See README.md.
module VirtualTrainerOptimizer
end
