# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Retention
    # The progress of `rake vto:retention:run` on a terminal: one bar per
    # table, redrawn in place after each batch.
    class ProgressBar
      WIDTH = 30

      def initialize(io)
        @io = io
        @current = nil
      end

      # Retention.run's `progress:` callback.
      def call(table)
        finish if @current && @current != table.table
        @current = table.table
        total = [table.matched, 1].max
        done = [table.processed, total].min
        filled = WIDTH * done / total
        @io.write(format("\r%-28s [%s%s] %d/%d rows (%d%%)", table.table[0, 28], "#" * filled, "." * (WIDTH - filled),
                         table.processed, table.matched, 100 * done / total))
        @io.flush
      end

      def finish
        @io.write("\n") if @current
        @current = nil
      end
    end
  end
end
