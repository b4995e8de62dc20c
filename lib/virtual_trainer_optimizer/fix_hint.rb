# frozen_string_literal: true

module VirtualTrainerOptimizer
  # Turns a finding into the exact fix: the repeated query's table and filter
  # column (from the native shape) are matched against ActiveRecord's
  # reflections to name the association and the model that loops over it.
  class FixHint
    INDEX_CACHE_LIMIT = 500
    HINT_CACHE_LIMIT = 1000
    # Kinds whose hint depends only on the query, its call site and the unit
    # of work's name (not on timings): computed once, then reused.
    CACHED_KINDS = %i[n_plus_one bulk_write duplicate_query].freeze
    @index_cache = {}
    @hint_cache = {}
    @index_lock = Mutex.new

    class << self
      # The cached [suggestion, table, column] for a finding, or the block's.
      def cached(finding)
        return yield unless CACHED_KINDS.include?(finding.kind)

        key = [finding.kind, finding.fingerprint, finding.location, finding.scope_name, finding.via_association?]
        hit = @index_lock.synchronize { @hint_cache[key] }
        return hit if hit

        value = yield
        @index_lock.synchronize do
          @hint_cache.clear if @hint_cache.size >= HINT_CACHE_LIMIT
          @hint_cache[key] = value
        end
      end

      # Column lists of a table's indexes (first column first), looked up once;
      # nil when the database cannot say (the hint then leaves indexes out).
      def indexes(table)
        @index_lock.synchronize { return @index_cache[table] if @index_cache.key?(table) }
        columns = ActiveRecord::Base.connection.indexes(table).map { |index| Array(index.columns).map(&:to_s) }
        @index_lock.synchronize do
          @index_cache.clear if @index_cache.size >= INDEX_CACHE_LIMIT
          @index_cache[table] = columns
        end
      rescue ActiveRecord::ActiveRecordError
        nil
      end

      def clear_caches!
        @index_lock.synchronize do
          @index_cache.clear
          @hint_cache.clear
        end
      end
    end

    def initialize(scope)
      @scope = scope
    end

    # Sets the finding's suggestion (and, for an N+1, its table and column).
    def apply(finding)
      suggestion, table, column = self.class.cached(finding) do
        text = hint(finding)
        [text, finding.table, finding.column]
      end
      finding.suggestion = suggestion
      finding.table = table
      finding.column = column
    rescue StandardError => e
      VirtualTrainerOptimizer.internal_error(e)
    end

    private

    def hint(finding)
      case finding.kind
      when :n_plus_one then n_plus_one(finding)
      when :bulk_write then bulk_write(finding)
      when :duplicate_query then duplicate(finding)
      when :slow_query then slow_query(finding)
      else slow_scope(finding)
      end
    end

    # -- N+1 ---------------------------------------------------------------

    def n_plus_one(finding)
      shape = finding.shape
      return "load the records once before the loop (includes / preload, or one where(...) query)" unless shape

      target = shape.dig("tables", 0, "name")
      filter = filter_predicate(shape, target)
      return "load the #{target} rows once before the loop" unless target && filter

      finding.table = filter["table"] || target
      finding.column = filter["column"]
      hint = association_hint(finding, shape, target, finding.table, finding.column) ||
             plain_hint(finding, target, finding.table, finding.column)
      [hint, missing_index(finding.table, filter_columns(shape, finding.table))].compact.join("; ")
    end

    # The equality filter the loop varies: on the queried table, or on the
    # join table of a has_many :through.
    def filter_predicate(shape, target)
      preds = shape["predicates"].select { |p| p["clause"] == "where" && %w[eq in].include?(p["op"]) }
      preds.find { |p| p["column"].end_with?("_id") || p["column"] == "id" } || preds.find { |p| p["table"] == target } ||
        preds.first
    end

    def filter_columns(shape, table)
      cols = shape["predicates"].select { |p| p["clause"] == "where" && (p["table"].nil? || p["table"] == table) }
                                .select { |p| %w[eq in].include?(p["op"]) }.map { |p| p["column"] }.uniq
      type = cols.find { |c| c.end_with?("_type") }
      type ? [type] + (cols - [type]) : cols
    end

    def association_hint(finding, shape, target, table, column)
      return nil unless defined?(ActiveRecord::Base)

      candidates = associations_for(target, table, column)
      return nil if candidates.empty? && !finding.via_association?
      return "preload the association that issues it (includes / preload) where the records are loaded" if candidates.empty?

      owner, reflection = rank(candidates).first
      aggregates = shape["aggregates"]
      if aggregates.include?("COUNT")
        count_hint(owner, reflection)
      elsif aggregates.any?
        grouped_hint(reflection, aggregates.first)
      elsif finding.sql&.match?(/\ASELECT \? AS one\b/)
        "#{owner.name}.includes(:#{reflection.name}) where the #{owner.model_name.human.pluralize.downcase} are " \
          "loaded, and `#{reflection.name}.any?` instead of `exists?` (exists? always queries)"
      elsif !finding.via_association? && reflection.belongs_to?
        nil # a find in a loop, not the association: see plain_hint
      else
        includes_hint(owner, reflection)
      end
    end

    def includes_hint(owner, reflection)
      hint = "#{owner.name}.includes(:#{reflection.name}) (or preload) where the " \
             "#{owner.model_name.human.pluralize.downcase} are loaded"
      parent = nested_parent(owner, reflection)
      hint += ", or #{parent.active_record.name}.includes(#{parent.name}: :#{reflection.name}) when they come from " \
              "#{parent.active_record.model_name.human.pluralize.downcase}" if parent
      hint
    end

    def count_hint(owner, reflection)
      inverse = reflection.klass.reflect_on_all_associations(:belongs_to)
                          .find { |b| b.foreign_key.to_s == reflection.foreign_key.to_s }
      counter = "#{reflection.name}_count"
      "counter cache: `belongs_to :#{inverse&.name || owner.model_name.singular}, counter_cache: true` in " \
        "#{reflection.klass.name} with `add_column :#{owner.table_name}, :#{counter}, :integer, default: 0, " \
        "null: false`, then `#{reflection.name}.size`; or #{owner.name}.includes(:#{reflection.name}) and `.size`"
    end

    def grouped_hint(reflection, aggregate)
      klass = klass_of(reflection)
      key = reflection.through_reflection ? reflection.through_reflection.foreign_key : reflection.foreign_key
      "one grouped query before the loop: #{klass&.name}.where(#{key}: ids).group(:#{key})." \
        "#{aggregate.downcase}(...), then look each one up in the Hash"
    end

    def plain_hint(finding, target, table, column)
      model = model_for(target)
      name = model&.name || "the model of #{target}"
      if finding.sql&.match?(/\ASELECT COUNT\(/i)
        "count once for all: #{name}.where(#{column}: ids).group(:#{column}).count before the loop"
      elsif column == (model&.primary_key || "id") && table == target
        "load them in one query before the loop: #{name}.where(id: ids).index_by(&:id) (or #{name}.find(ids))"
      else
        "load them in one query before the loop: #{name}.where(#{column}: values).group_by(&:#{column})"
      end
    end

    # [model, reflection] pairs whose load is this query.
    def associations_for(target, table, column)
      models.each_with_object([]) do |model, out|
        model.reflect_on_all_associations.each do |r|
          out << [model, r] if loads?(r, target, table, column)
        end
      end
    end

    def loads?(reflection, target, table, column)
      if reflection.polymorphic?
        # belongs_to :commentable, polymorphic: true loads any owner by primary key.
        return table == target && column == (model_for(target)&.primary_key || "id")
      end

      klass = klass_of(reflection)
      return false unless klass && klass.table_name == target

      if reflection.through_reflection
        through = reflection.through_reflection
        klass_of(through)&.table_name == table && through.foreign_key.to_s == column
      elsif reflection.belongs_to?
        table == target && reflection.association_primary_key.to_s == column
      else
        table == target && reflection.foreign_key.to_s == column
      end
    end

    # Owners whose records this unit of work loaded come first; then direct
    # (non-polymorphic) associations.
    def rank(candidates)
      seen = scope_tables
      candidates.sort_by.with_index do |(model, r), i|
        [seen.include?(model.table_name) ? 0 : 1, r.polymorphic? ? 1 : 0, i]
      end
    end

    # A has_many/has_one to `owner` from another model this unit of work
    # loaded (not the one `reflection` points back to): the nested includes.
    def nested_parent(owner, reflection)
      seen = scope_tables
      target = klass_of(reflection)
      models.each do |model|
        next if model == owner || model == target || !seen.include?(model.table_name)

        model.reflect_on_all_associations.each do |r|
          next if r.polymorphic? || r.belongs_to?
          return r if klass_of(r) == owner
        end
      end
      nil
    end

    # The associated class, or nil when it cannot be loaded (a misconfigured
    # association is not ours to report).
    def klass_of(reflection)
      reflection.klass
    rescue NameError, ArgumentError
      nil
    end

    def scope_tables
      @scope_tables ||= @scope.native.tables
    end

    def models
      @models ||= ActiveRecord::Base.descendants.select do |m|
        m.name && !m.abstract_class? && !m.name.start_with?("#<") && m.table_name
      end
    end

    def model_for(table)
      return nil unless defined?(ActiveRecord::Base)

      models.find { |m| m.table_name == table }
    end

    # The add_index line when no index starts with the filter columns.
    def missing_index(table, columns)
      return nil if columns.empty? || !VirtualTrainerOptimizer.config.suggest_indexes

      # Only a model's table: any other name could be a view or alias, and a
      # failing lookup inside the app's open transaction would abort it.
      model = model_for(table)
      return nil if model.nil? || columns == [model.primary_key]

      indexes = self.class.indexes(table)
      return nil if indexes.nil? || indexes.any? { |cols| cols.first == columns.first }

      cols = columns.size == 1 ? ":#{columns.first}" : "[#{columns.map { |c| ":#{c}" }.join(', ')}]"
      "#{table}.#{columns.first} has no index: add_index :#{table}, #{cols}"
    end

    # -- other kinds ---------------------------------------------------------

    def bulk_write(finding)
      model = model_for(finding.shape&.dig("tables", 0, "name").to_s)&.name || "Model"
      case finding.sql.to_s
      when /\AINSERT/i then "one statement instead: #{model}.insert_all(rows) (skips validations and callbacks)"
      when /\AUPDATE/i then "one statement instead: #{model}.where(...).update_all(...) (skips callbacks)"
      when /\ADELETE/i then "one statement instead: #{model}.where(...).delete_all (skips callbacks)"
      else "batch the writes into one statement"
      end
    end

    def duplicate(_finding)
      "load it once and reuse the result " \
        "(a local variable or memoized method; Rails.cache with a TTL across requests)"
    end

    def slow_query(finding)
      shape = finding.shape
      plan = plan_findings(finding)
      parts = ["#{format('%.1f', finding.max_ms)} ms: " \
               "#{plan ? "its plan: #{plan.join('; ')}" : 'check its plan with EXPLAIN ANALYZE'}"]
      if shape
        table = shape.dig("tables", 0, "name")
        parts << shape["lints"].first["message"] if shape["lints"].any?
        parts << missing_index(table, filter_columns(shape, table)) if table
      end
      parts.compact.join("; ")
    end

    # What PostgreSQL's generic plan of the statement shows (config
    # explain_slow_queries): the core's plan findings, or nil.
    def plan_findings(finding)
      return nil unless VirtualTrainerOptimizer.config.explain_slow_queries && finding.sql
      return nil unless defined?(ActiveRecord::Base) && GenericPlan.postgresql?(ActiveRecord::Base.connection)

      report = GenericPlan.analyze(ActiveRecord::Base.connection, finding.sql)
      return nil unless report

      finding.plan = report
      details = report["findings"].map { |f| f["detail"].to_s.chomp(".") }
      details << "it uses #{report['indexes_used'].join(', ')}" if details.empty? && report["indexes_used"].any?
      details.empty? ? nil : details
    end

    def slow_scope(finding)
      total = finding.elapsed_ms
      db = finding.db_ms
      view = finding.view_ms.to_f
      where = if db >= total * 0.5
                "most of it is database time (#{format('%.0f', db)} ms): fix the queries reported with it"
              elsif view >= total * 0.5
                "most of it is rendering (#{format('%.0f', view)} ms): cache fragments (Russian-doll caching)"
              else
                "most of it is Ruby outside the database (#{format('%.0f', total - db - view)} ms): profile it"
              end
      "#{format('%.0f', total)} ms against a #{finding.budget_ms&.round} ms budget; #{where}"
    end
  end
end
