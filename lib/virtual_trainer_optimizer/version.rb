# frozen_string_literal: true

module VirtualTrainerOptimizer
  VERSION = "0.1.0"
end
