# frozen_string_literal: true

module VirtualTrainerOptimizer
  # SQL text analysis. Dialects: :postgresql (the default), :mysql, :sqlite, or a
  # Rails adapter name (:postgis, :mysql2, :trilogy, :sqlite3), as a Symbol or String.
  #
  # Defined natively (ext/virtual_trainer_optimizer/src/sql.rs):
  #
  # - SQL.normalize(sql, dialect: :postgresql) -> String: literals and binds as
  #   "?", IN / ARRAY / FIELD lists and multi-row VALUES collapsed, comments
  #   removed, whitespace and keyword case folded. Accepts any bytes; never
  #   raises on bad SQL.
  # - SQL.fingerprint(sql, dialect: :postgresql) -> String of 16 lowercase hex
  #   digits: XXH3-64 of the normalized form. Queries that differ only in values,
  #   binds, list lengths, comments or formatting share it.
  # - SQL.analyze(sql, dialect: :postgresql) -> Hash with string keys: "kind",
  #   "tables", "predicates" ({"table","column","op","clause"}), "joins",
  #   "order_by", "group_by", "limit", "offset", "select_star", "aggregates",
  #   "subqueries", "distinct", "or_across_columns", "not_in_subquery" and
  #   "lints" ({"code","message","why"}). Parsed once per fingerprint and cached.
  #   Raises ParseError on SQL the parser rejects, InputTooLarge above
  #   max_input_bytes or max_nesting_depth.
  # - SQL.cache_stats -> {"hits", "misses", "entries", "capacity"} of the
  #   process-wide shape cache; SQL.clear_cache! empties it.
  module SQL
    DEFAULT_MAX_INPUT_BYTES = 1_048_576
    DEFAULT_MAX_NESTING_DEPTH = 32

    @max_input_bytes = DEFAULT_MAX_INPUT_BYTES
    @max_nesting_depth = DEFAULT_MAX_NESTING_DEPTH

    class << self
      # Cap on SQL size: the hot path normalizes only this many bytes, and
      # analyze raises InputTooLarge above it.
      attr_reader :max_input_bytes

      # Cap on parenthesis nesting for analyze (InputTooLarge above it): the
      # parser's recursion on deeper input could exhaust a small thread stack.
      attr_reader :max_nesting_depth

      def max_input_bytes=(bytes)
        @max_input_bytes = positive_integer!(:max_input_bytes, bytes)
        native_set_limits(@max_input_bytes, @max_nesting_depth)
      end

      def max_nesting_depth=(depth)
        @max_nesting_depth = positive_integer!(:max_nesting_depth, depth)
        native_set_limits(@max_input_bytes, @max_nesting_depth)
      end

      private

      def positive_integer!(name, value)
        return value if value.is_a?(Integer) && value.positive?

        raise ArgumentError, "#{name} must be a positive Integer, got #{value.inspect}"
      end
    end
  end
end
