# frozen_string_literal: true

module VirtualTrainerOptimizer
  # The background thread of a buffering sink (JsonlSink, RedisSink): it
  # flushes every few seconds so a quiet process still writes what it
  # buffered. An error is logged (internal_error) and the loop goes on.
  module Flusher
    # Starts the thread, named `name` (shown in thread dumps), calling the
    # block every `seconds`; returns it.
    def self.start(name, seconds, &flush)
      thread = Thread.new do
        loop do
          sleep seconds
          flush.call
        rescue StandardError => e
          VirtualTrainerOptimizer.internal_error(e)
        end
      end
      thread.name = name
      thread.report_on_exception = false
      thread
    end
  end
end
