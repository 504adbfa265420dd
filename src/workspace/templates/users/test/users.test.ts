import request from 'supertest';
import { describe, it } from 'vitest';
import { createApp } from '../src/app.js';
import { testContext } from './helpers.js';

describe('users API', () => {
  it('finds user 1, answers 404 for an unknown id, creates a user', async () => {
    const app = await createApp(testContext());
    await request(app).get('/api/users/1').expect(200, { id: '1', name: 'Ada' });
    await request(app).get('/api/users/999').expect(404, { error: 'No such user' });
    const made = await request(app).post('/api/users').send({ name: 'Grace' }).expect(201);
    await request(app)
      .get(`/api/users/${made.body.id as string}`)
      .expect(200, made.body);
    await request(app).post('/api/users').send({ name: '' }).expect(400);
  });
});
