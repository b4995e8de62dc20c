# frozen_string_literal: true

# `require "virtual_trainer_optimizer/rspec"`: the matchers in every example
# group, strict mode's hooks (idle until strict! or vto_strict metadata), and
# the CI summary at the end of the suite.
require "rspec/expectations"
require_relative "../virtual_trainer_optimizer"
require_relative "rspec/matchers"
require_relative "rspec/strict"
require_relative "rspec/schema_matchers"

if defined?(RSpec.configure)
  VirtualTrainerOptimizer::CiSummary.framework_hook!
  RSpec.configure do |config|
    config.include VirtualTrainerOptimizer::RSpec::Matchers
    config.around(:example) { |example| VirtualTrainerOptimizer::RSpec.around_example(example) }
    config.after(:suite) { VirtualTrainerOptimizer::RSpec.after_suite(RSpec.configuration) }
  end
end
