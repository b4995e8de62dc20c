# frozen_string_literal: true

require "json"

module VirtualTrainerOptimizer
  module Indexes
    # The index advice as text (a terminal), Markdown (a pull request or an
    # issue) or JSON (tools): `rake vto:indexes`.
    module Render
      FORMATS = %w[text markdown json].freeze

      module_function

      def render(suggestions, format)
        case format.to_s
        when "text" then text(suggestions)
        when "markdown" then markdown(suggestions)
        when "json" then "#{JSON.pretty_generate(suggestions.map(&:to_h))}\n"
        else raise ArgumentError, "FORMAT must be one of #{FORMATS.join(', ')}, got #{format.inspect}"
        end
      end

      def text(suggestions)
        return "virtual_trainer_optimizer: no index advice\n" if suggestions.empty?

        out = +"virtual_trainer_optimizer: #{suggestions.size} index suggestion#{'s' unless suggestions.size == 1}\n"
        suggestions.each_with_index do |s, i|
          out << "\n#{i + 1}. [#{s.priority}] #{title(s)}\n"
          out << "   #{s.reason}\n"
          out << "   Planner: cost #{s.cost_before} -> #{s.cost_after}\n" if s.cost_before
          out << "   Trade-offs: #{s.trade_offs}\n" if s.trade_offs
          out << "   #{s.sql}\n\n"
          out << s.migration.gsub(/^(?=.)/, "   ")
        end
        out
      end

      def markdown(suggestions)
        return "## Index advice\n\nNo suggestions.\n" if suggestions.empty?

        out = +"## Index advice\n\n| # | Priority | Suggestion | Table | Columns |\n|---|---|---|---|---|\n"
        suggestions.each_with_index do |s, i|
          out << "| #{i + 1} | #{s.priority} | #{s.kind.to_s.tr('_', ' ')} | `#{s.table}` | #{s.columns.map { |c| "`#{c}`" }.join(', ')} |\n"
        end
        suggestions.each_with_index do |s, i|
          out << "\n### #{i + 1}. #{title(s)}\n\n**Priority:** #{s.priority}\n\n#{s.reason}\n\n"
          out << "**Planner:** cost #{s.cost_before} → #{s.cost_after}\n\n" if s.cost_before
          out << "**Trade-offs:** #{s.trade_offs}\n\n" if s.trade_offs
          out << "```ruby\n#{s.migration}```\n\n```sql\n#{s.sql}\n```\n"
        end
        out
      end

      def title(suggestion)
        what = suggestion.kind.to_s.tr("_", " ")
        "#{what.capitalize}: #{suggestion.table} (#{suggestion.columns.join(', ')})" \
          "#{" — #{suggestion.index_name}" if %i[redundant_index unused_index].include?(suggestion.kind)}"
      end
    end
  end
end
