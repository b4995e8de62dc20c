# frozen_string_literal: true

module VirtualTrainerOptimizer
  module Retention
    # The SQL of one plan step. Rows are expired when their timestamp is
    # before the cutoff and they match the policy's condition (and, to
    # anonymize, still hold a value). Batches are primary-key ranges: each one
    # ends at the key that closes `batch_size` expired rows, found through the
    # key's index with a LIMIT (never OFFSET), and is acted on as
    # `key > previous end AND key <= this end` with the expiry condition
    # repeated, so a row that changed in between is left alone.
    class Statements
      attr_reader :key

      # `dialect`: the hash expression of hashed columns.
      def initialize(connection, step, cutoff, dialect)
        @connection = connection
        @step = step
        @dialect = dialect
        @hashed = step.fetch("hashed_columns", [])
        @table = connection.quote_table_name(step["table"])
        @key = step.fetch("key").first
        @qkey = connection.quote_column_name(@key)
        @expired = expiry(cutoff)
      end

      # COUNT, MIN(key), MAX(key) of the expired rows.
      def bounds
        "SELECT COUNT(*), MIN(#{@qkey}), MAX(#{@qkey}) FROM #{@table} WHERE #{@expired}"
      end

      # The key that closes the next batch of `limit` expired rows after
      # `from` (exclusive; nil: from `low`, inclusive), up to `high`.
      def batch_end(from, low, high, limit)
        "SELECT MAX(#{@qkey}) FROM (SELECT #{@qkey} FROM #{@table} WHERE #{range(from, low, high)} " \
          "ORDER BY #{@qkey} LIMIT #{Integer(limit)}) vto_batch"
      end

      # The condition selecting one batch's rows.
      def batch(from, low, high)
        range(from, low, high)
      end

      def delete(condition)
        "DELETE FROM #{@table} WHERE #{condition}"
      end

      def anonymize(condition)
        sets = anonymized_columns.map { |c| "#{@connection.quote_column_name(c.name)} = #{cleared_value(c)}" }
        "UPDATE #{@table} SET #{sets.join(', ')} WHERE #{condition}"
      end

      private

      def range(from, low, high)
        start = from.nil? ? "#{@qkey} >= #{@connection.quote(low)}" : "#{@qkey} > #{@connection.quote(from)}"
        "#{start} AND #{@qkey} <= #{@connection.quote(high)} AND #{@expired}"
      end

      def expiry(cutoff)
        parts = ["#{@connection.quote_column_name(@step['timestamp_column'])} < #{@connection.quote(cutoff)}"]
        parts << "(#{@step['where']})" if @step["where"].to_s.strip != ""
        parts << "(#{anonymized_columns.map { |c| still_set(c) }.join(' OR ')})" if @step["action"] == "anonymize"
        parts.join(" AND ")
      end

      def anonymized_columns
        @anonymized_columns ||= begin
          by_name = @connection.columns(@step["table"]).to_h { |c| [c.name, c] }
          @step["columns"].map do |name|
            column = by_name.fetch(name) { raise ArgumentError, "#{@step['table']}.#{name} does not exist" }
            if !column.null && column.default.nil? && !@hashed.include?(name)
              raise ArgumentError, "#{@step['table']}.#{name} is NOT NULL without a default: nothing to anonymize it to"
            end

            column
          end
        end
      end

      # NULL, the column's default where it cannot be NULL, or the hash.
      def cleared_value(column)
        return @dialect.hash_expression(@connection.quote_column_name(column.name)) if hashed?(column)

        column.null ? "NULL" : @connection.quote(column.default)
      end

      def still_set(column)
        name = @connection.quote_column_name(column.name)
        return "(#{name} IS NOT NULL AND #{name} NOT LIKE 'vto:%')" if hashed?(column)

        column.null ? "#{name} IS NOT NULL" : "#{name} <> #{@connection.quote(column.default)}"
      end

      def hashed?(column)
        @hashed.include?(column.name)
      end
    end
  end
end
