# frozen_string_literal: true

# An HTML-ish page (ActionController::Base): the page budget applies.
class TeamsController < ApplicationController
  def index
    lines = Team.order(:id).map do |team|
      "#{team.name}: #{team.users.map(&:name).join(', ')}" # marker:teams-html
    end
    render plain: lines.join("\n")
  end
end
