# frozen_string_literal: true

module VirtualTrainerOptimizer
  module RSpec
    # Schema specs: `expect(VirtualTrainerOptimizer).to have_no_unindexed_foreign_keys`
    # and `have_no_redundant_indexes`, on ActiveRecord::Base's database (or
    # `.on(connection)`); `.ignoring("table")`, `.ignoring("table.column")` or
    # `.ignoring("index_name")` leaves known cases out. The failure lists each
    # suggestion with its reason and migration.
    class SchemaMatcher
      def initialize(kind, what)
        @kind = kind
        @what = what
        @ignored = []
      end

      def on(connection)
        @connection = connection
        self
      end

      def ignoring(*names)
        @ignored.concat(names.flatten.map(&:to_s))
        self
      end

      def matches?(_subject = nil)
        require_relative "../indexes"
        connection = @connection || ActiveRecord::Base.connection
        @found = Indexes.analyze(connection: connection, kinds: [@kind], usage: false).reject { |s| ignored?(s) }
        @found.empty?
      end

      def failure_message
        lines = ["expected no #{@what}, got #{@found.size}:"]
        @found.each do |s|
          lines << "  - #{s.message}"
          lines << s.migration.gsub(/^/, "      ")
        end
        lines.join("\n")
      end

      def failure_message_when_negated
        "expected #{@what}, found none"
      end

      def description
        "have no #{@what}"
      end

      private

      def ignored?(suggestion)
        names = [suggestion.table, suggestion.index_name, *suggestion.columns.map { |c| "#{suggestion.table}.#{c}" }]
        names.any? { |n| @ignored.include?(n) }
      end
    end

    module Matchers
      def have_no_unindexed_foreign_keys
        SchemaMatcher.new(:missing_foreign_key_index, "unindexed foreign keys")
      end

      def have_no_redundant_indexes
        SchemaMatcher.new(:redundant_index, "redundant indexes")
      end
    end
  end
end
