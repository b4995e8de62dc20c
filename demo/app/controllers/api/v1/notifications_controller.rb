# frozen_string_literal: true

module Api
  module V1
    class NotificationsController < BaseController
      def index
        render json: current_user.notifications.unread.order(created_at: :desc).limit(20).pluck(:id, :title)
      end
    end
  end
end
