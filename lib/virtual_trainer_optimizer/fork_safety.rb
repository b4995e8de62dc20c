# frozen_string_literal: true

module VirtualTrainerOptimizer
  # After fork (Puma cluster workers, Sidekiq, Spring, Process.fork) the child
  # starts with no open unit of work and its own JSON-lines file handle.
  module ForkSafety
    def _fork
      pid = super
      VirtualTrainerOptimizer.after_fork! if pid.zero?
      pid
    end
  end
end

Process.singleton_class.prepend(VirtualTrainerOptimizer::ForkSafety) if Process.respond_to?(:_fork)
