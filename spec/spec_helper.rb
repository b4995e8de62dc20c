# frozen_string_literal: true

require "json"
require "virtual_trainer_optimizer"

VECTORS_DIR = File.expand_path("../tests/vectors", __dir__)

def load_vectors(name)
  JSON.parse(File.read(File.join(VECTORS_DIR, name)))
end

# Sets configuration options for the block and puts them back after.
module ConfigHelpers
  def with_config(**options)
    config = VirtualTrainerOptimizer.config
    saved = options.keys.to_h { |k| [k, config.public_send(k)] }
    options.each { |k, v| config.public_send(:"#{k}=", v) }
    yield
  ensure
    saved&.each { |k, v| config.public_send(:"#{k}=", v) }
  end
end

RSpec.configure do |config|
  config.include ConfigHelpers
  config.disable_monkey_patching!
  config.order = :random
  Kernel.srand config.seed

  # `rake spec:gc_stress` runs the native-boundary specs with GC.stress on, so a
  # Ruby object the binding forgot to keep alive is collected at once and fails loudly.
  if ENV["VTO_GC_STRESS"]
    config.around(:each, :native) do |example|
      GC.stress = true
      example.run
    ensure
      GC.stress = false
    end
  end
end
