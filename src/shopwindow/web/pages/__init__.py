"""Server-rendered pages (Jinja2, zh-CN and en), mobile first, working without JavaScript."""

from fastapi import APIRouter

from shopwindow.web.pages import auth, feed, notifications, posts, profiles, settings

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(feed.router)
router.include_router(notifications.router)
router.include_router(settings.router)
# Profile sub-pages (/@u/followers) are listed before the post route (/@u/123).
router.include_router(profiles.router)
router.include_router(posts.router)
