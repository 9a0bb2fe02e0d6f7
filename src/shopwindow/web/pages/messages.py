"""Domain error messages the pages may show, marked for translation.

Domain code raises English `detail` strings; the pages translate them at render time
(`|tr`). Listing them here puts them in the catalogs. Details with variable parts are
replaced by a fixed message chosen by the error's rule (`RULE_MESSAGES`).
"""

from __future__ import annotations

from shopwindow.core.errors import DomainError


def N_(message: str) -> str:
    """Mark a message for translation; it is translated when rendered (`|tr`)."""
    return message


KNOWN = (
    # accounts
    N_("Username must be 1-30 letters, digits or underscores"),
    N_("This username is reserved"),
    N_("This username is taken"),
    N_("This e-mail is already registered"),
    N_("Password must be at least 8 characters"),
    N_("Password must be at most 256 characters"),
    N_("Display name is too long"),
    N_("Wrong username/e-mail or password"),
    N_("Bio is longer than 500 characters"),
    N_("Region is too long"),
    N_("Locale must be en or zh-CN"),
    N_("Visibility must be public, unlisted or private"),
    N_("Languages must be a list of up to 10 language codes"),
    N_("Current password is wrong"),
    N_("Password is wrong"),
    N_("Token not found"),
    N_("Account not found"),
    # social
    N_("Visibility must be public, unlisted or private (followers only)"),
    N_("A post needs text or at least one image"),
    N_("Text is longer than 2000 characters"),
    N_("At most 9 images per post"),
    N_("The post you reply to does not exist or is not visible to you"),
    N_("You cannot reply to this account"),
    N_("You cannot do this to your own account"),
    N_("You cannot follow this account"),
    N_("Followers-only posts cannot be reposted"),
    N_("You can only delete your own posts"),
    N_("Post not found"),
    N_("Unknown action"),
    N_("Unknown language"),
    # media
    N_("File is empty"),
    N_("Only JPEG, PNG, WebP and GIF images are accepted"),
    N_("Image dimensions are too large"),
    N_("File is not a readable image"),
    # partners (operator pages)
    N_("Enter a rate in per cent between 0 and 100, e.g. 12.5"),
    N_("Write one category=rate% per line, e.g. beauty=15%"),
    N_("Enter a whole number of days"),
    N_("This slug is taken"),
    N_("The name must have 1 to 100 characters"),
    N_("The api product source needs an API URL template"),
    N_("The cart URL template needs exactly one {items}"),
    N_("The cart URL must be on one of the partner's domains"),
    N_("Partner not found"),
)

RULE_MESSAGES = {
    "email": N_("This e-mail address is not valid."),
    "rate_limit": N_("Too many attempts. Please wait a few minutes and try again."),
    "max_bytes": N_("The file is too large."),
    "exists": N_("Not found."),
}


def message_for(exc: DomainError) -> str:
    """The (translatable) message to show for a domain error."""
    if exc.detail in KNOWN:
        return exc.detail
    rule = (exc.rule or "").split(":", 1)[0]
    return RULE_MESSAGES.get(rule, exc.detail)
