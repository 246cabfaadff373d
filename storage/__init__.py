"""Persistence: SQLAlchemy 1.4 (asyncio) models, Alembic migrations, repositories, photos."""
