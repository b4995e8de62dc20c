# frozen_string_literal: true

module VirtualTrainerOptimizer
  # SQL text analysis. Dialects: :postgresql, :mysql, :sqlite, or a Rails adapter
  # name (:postgis, :mysql2, :trilogy, :sqlite3), as a Symbol or String.
  module SQL
    DEFAULT_MAX_INPUT_BYTES = 1_048_576

    @max_input_bytes = DEFAULT_MAX_INPUT_BYTES

    class << self
      # Cap on SQL size: the hot path normalizes only this many bytes.
      attr_reader :max_input_bytes

      def max_input_bytes=(bytes)
        unless bytes.is_a?(Integer) && bytes.positive?
          raise ArgumentError, "max_input_bytes must be a positive Integer, got #{bytes.inspect}"
        end

        @max_input_bytes = bytes
      end

      # The canonical form of +sql+: literals and binds as "?", IN lists and
      # multi-row VALUES collapsed, comments removed, whitespace and keyword case
      # folded. Accepts any bytes; never raises on bad SQL.
      def normalize(sql, dialect: :postgresql)
        native_normalize(sql, dialect, @max_input_bytes)
      end

      # 16 lowercase hex digits: XXH3-64 of the normalized form. Queries that
      # differ only in values, binds, list lengths, comments or formatting share it.
      def fingerprint(sql, dialect: :postgresql)
        native_fingerprint(sql, dialect, @max_input_bytes)
      end
    end
  end
end
