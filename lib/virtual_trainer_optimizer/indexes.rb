# frozen_string_literal: true

require "json"
require_relative "introspection"
require_relative "indexes/workload"
require_relative "indexes/verification"

module VirtualTrainerOptimizer
  # The index advisor: the schema of a live database (or a structure.sql)
  # through the core's analyses, as suggestions with the migration, the SQL,
  # the reason and a priority.
  module Indexes
    KINDS = %i[missing_foreign_key_index redundant_index unused_index workload_index over_indexed_table].freeze

    # One suggestion. `columns` are in index order; `index_name` is the
    # existing index (redundant, unused) or the name Rails would give the new
    # one; `covered_by` names the index that makes a redundant one useless;
    # `via` says where a foreign key comes from (declared, association,
    # convention, polymorphic).
    # `queries` are the recorded queries it serves (workload indexes, and
    # foreign-key indexes that recorded queries filter on), `time_ms` their
    # total time. With verification, `verification` holds the planner's
    # comparison per served query and `cost_before` / `cost_after` their sums.
    class Suggestion
      FIELDS = %i[kind table columns descending index_name covered_by via references on_delete migration sql reason
                  priority size_bytes trade_offs queries time_ms droppable write_load].freeze
      attr_reader(*FIELDS)
      attr_reader :verification

      def initialize(data)
        FIELDS.each { |f| instance_variable_set(:"@#{f}", data[f.to_s]) }
        @kind = @kind.to_sym
        @priority = @priority.to_sym
        @columns = Array(@columns)
        @queries = Array(@queries)
      end

      def verification=(comparisons)
        @verification = comparisons
      end

      # Planner cost of the served queries before and after the index (nil
      # when not verified).
      def cost_before
        verification&.sum { |c| c["cost_before"].to_f }&.round(2)
      end

      def cost_after
        verification&.sum { |c| c["cost_after"].to_f }&.round(2)
      end

      # True when the planner used the index for a served query, false when
      # for none, nil when it was not asked.
      def verified
        verification && verification.any? { |c| c["index_used"] }
      end

      def to_h
        FIELDS.to_h { |f| [f, public_send(f)] }.merge(cost_before: cost_before, cost_after: cost_after,
                                                      verified: verified)
      end

      # One line for a log or a failure message.
      def message
        "#{kind.to_s.tr('_', ' ')} [#{priority}] #{table} (#{columns.join(', ')}): #{reason}"
      end

      def inspect
        "#<#{self.class.name} #{kind} #{priority} #{table}(#{columns.join(', ')})#{" #{index_name}" if index_name}>"
      end
    end

    module_function

    # The suggestions for a database (`connection:`) or a structure.sql /
    # pg_dump --schema-only text (`structure_sql:`, no database needed).
    # `workload:` (a scan result, an Array of SQL strings, the path of the
    # JSON-lines file, or :pg_stat_statements with a PostgreSQL connection)
    # adds indexes derived from the recorded queries.
    # `verify:` (PostgreSQL connection; true, or :hypopg / :transaction to
    # insist on one way) asks the planner about each of those and drops what
    # it would not use; `real_indexes:` lets it create the
    # index in a rolled-back transaction when HypoPG is missing (default: in
    # test and development only). `kinds:` narrows the suggestions; `usage:`
    # (PostgreSQL) reads index scan counts for unused-index advice — leave it
    # off on a test database or a replica, whose statistics say nothing
    # about production.
    def analyze(connection: nil, structure_sql: nil, dialect: nil, kinds: nil, usage: true, workload: nil,
                verify: false, real_indexes: nil, **thresholds)
      if connection.nil? == structure_sql.nil?
        raise ArgumentError, "Indexes.analyze needs connection: or structure_sql: (one of them)"
      end
      raise ArgumentError, "verify: needs a connection: (the planner is asked)" if verify && connection.nil?

      dialect ||= connection ? Introspection.dialect_of(connection) : :postgresql

      schema = if connection
                 Introspection.schema(connection, usage: usage)
               else
                 parsed = parse_structure(structure_sql, dialect).first
                 # The models loaded here know foreign keys a structure.sql may not declare.
                 parsed.merge("associations" => Introspection.associations(parsed["tables"].map { |t| t["name"] }))
               end
      entries = Workload.from(workload, dialect: dialect, connection: connection)
      suggestions = advise(schema, kinds: kinds, workload: entries, **thresholds)
      return suggestions unless verify

      using = verify == true ? nil : verify
      unless [nil, :hypopg, :transaction].include?(using)
        raise ArgumentError, "verify: must be true, :hypopg or :transaction, got #{verify.inspect}"
      end

      Verification.new(connection, real_indexes: real_indexes.nil? ? development_database? : real_indexes,
                                   using: using).verify(suggestions)
    end

    def development_database?
      env = defined?(Rails) && Rails.respond_to?(:env) ? Rails.env.to_s : ENV.fetch("RAILS_ENV", "development")
      %w[development test].include?(env)
    end

    # [schema, warnings] for a structure.sql: the statements the core could
    # not read are warnings (`{"statement_index", "message"}`), never errors.
    def parse_structure(sql, dialect = :postgresql)
      raise ArgumentError, "structure_sql must be a String, got #{sql.class}" unless sql.is_a?(String)

      name = VirtualTrainerOptimizer::ADAPTER_DIALECTS.fetch(dialect.to_s.downcase, dialect.to_s.downcase.to_sym)
      unless %i[postgresql mysql sqlite].include?(name)
        raise ArgumentError, "dialect must be :postgresql, :mysql or :sqlite (or a Rails adapter name), " \
                             "got #{dialect.inspect}"
      end

      parsed = JSON.parse(Native.schema_from_ddl(sql, name.to_s))
      [parsed["schema"], parsed["warnings"]]
    end

    # Thresholds (the core's defaults when not given): `min_total_ms`,
    # workload indexes serving less recorded time are left out (0);
    # `min_rows`, tables known to be smaller are left out of workload advice
    # (1000: a sequential scan of them is fine); `over_index_min`,
    # `write_share_min`, `min_writes`: a table with at least that many
    # indexes, that share of writes among its recorded calls and that many
    # write calls is over-indexed (6, 0.5, 100).
    THRESHOLDS = %i[min_total_ms min_rows over_index_min write_share_min min_writes].freeze

    def advise(schema, kinds: nil, workload: [], **thresholds)
      unknown = thresholds.keys - THRESHOLDS
      raise ArgumentError, "unknown options #{unknown.inspect} (known: #{THRESHOLDS.join(', ')})" unless unknown.empty?

      kinds = kinds && Array(kinds).map(&:to_sym)
      unknown = kinds ? kinds - KINDS : []
      raise ArgumentError, "unknown kinds #{unknown.inspect} (known: #{KINDS.join(', ')})" unless unknown.empty?

      options = { migration_version: migration_version, kinds: kinds&.map(&:to_s), workload: workload }
                .merge(thresholds).compact
      JSON.parse(Native.index_advise(JSON.generate(schema), JSON.generate(options))).map { |s| Suggestion.new(s) }
    end

    def migration_version
      return "6.1" unless defined?(ActiveRecord::Migration) && ActiveRecord::Migration.respond_to?(:current_version)

      ActiveRecord::Migration.current_version.to_s
    end
  end
end
